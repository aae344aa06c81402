"""Version bumping for the release script."""


def parse(version):
    """(major, minor, patch) from 'X.Y.Z'."""
    major, minor, patch = (int(part) for part in version.split("."))
    return major, minor, patch


def bump(version, part):
    """The next version after `version` for a `part` ('major', 'minor' or 'patch') release."""
    major, minor, patch = parse(version)
    if part == "major":
        return f"{major + 1}.0.0"
    if part == "minor":
        return f"{major}.{minor + 1}.{patch}"
    if part == "patch":
        return f"{major}.{minor}.{patch + 1}"
    raise ValueError(f"unknown part: {part}")
