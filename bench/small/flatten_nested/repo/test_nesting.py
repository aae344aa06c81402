from nesting import depth, flatten


def test_numbers():
    assert flatten([1, [2, [3, 4]], (5,)]) == [1, 2, 3, 4, 5]


def test_strings_stay_whole():
    assert flatten(["ab", ["cd", ["ef"]]]) == ["ab", "cd", "ef"]


def test_depth_of_numbers():
    assert depth([1, [2, [3]]]) == 3
    assert depth([]) == 1


def test_depth_ignores_strings():
    assert depth(["abc", ["de"]]) == 2
