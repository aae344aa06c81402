"""The game's leaderboard."""


def top_scores(scores, n=3):
    """The `n` best (highest) scores as (player, score) pairs, best first."""
    ranked = sorted(scores.items(), key=lambda item: item[1])
    return ranked[:n]
