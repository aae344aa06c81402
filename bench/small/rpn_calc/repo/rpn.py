"""A reverse-Polish-notation calculator for the command palette."""
import operator

OPERATORS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}


def evaluate(expression):
    """The value of a space-separated RPN expression such as '3 4 + 2 *' (= 14).

    ValueError for a malformed expression.
    """
    stack = []
    for token in expression.split():
        if token in OPERATORS:
            if len(stack) < 2:
                raise ValueError(f"not enough operands for {token}")
            left = stack.pop()
            right = stack.pop()
            stack.append(OPERATORS[token](left, right))
        else:
            stack.append(float(token) if "." in token else int(token))
    if len(stack) != 1:
        raise ValueError("malformed expression")
    return stack[0]
