import pytest

from accounts import Account, InsufficientFunds


def test_deposit_withdraw():
    acc = Account("ann", 100)
    acc.deposit(20)
    acc.withdraw(50)
    assert acc.balance == 70


def test_overdraw():
    with pytest.raises(InsufficientFunds):
        Account("ann", 10).withdraw(11)


def test_transfer():
    alice, bob = Account("alice", 100), Account("bob", 50)
    alice.transfer_to(bob, 30)
    assert (alice.balance, bob.balance) == (70, 80)


def test_transfer_too_much_changes_nothing():
    alice, bob = Account("alice", 10), Account("bob", 500)
    with pytest.raises(InsufficientFunds):
        alice.transfer_to(bob, 30)
    assert (alice.balance, bob.balance) == (10, 500)
