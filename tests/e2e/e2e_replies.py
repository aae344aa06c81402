"""Scripted model replies (seed scaffold formats) and problems shared by the e2e tests."""


def search_replace(path: str, search: str, replace: str) -> str:
    return f"I will fix it.\n\n{path}\n<<<<<<< SEARCH\n{search}\n=======\n{replace}\n>>>>>>> REPLACE\n"


CALC_FIX = search_replace("calc/ops.py", "    count = len(values) - 1", "    count = len(values)")
WORDCOUNT_FIX = search_replace("wordcount.sh", "awk '{ n += NF } END { print n }'", "awk '{ n += NF } END { print n + 0 }'")
CALC_PROBLEM = "calc.mean([1, 2, 3]) returns 3.0 instead of 2.0: the mean of a list is computed wrongly."
