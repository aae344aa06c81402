"""Accounts for the family pocket-money app (amounts in whole cents)."""


class InsufficientFunds(Exception):
    pass


class Account:
    def __init__(self, owner, balance=0):
        self.owner = owner
        self.balance = balance

    def deposit(self, amount):
        if amount <= 0:
            raise ValueError("deposit must be positive")
        self.balance += amount

    def withdraw(self, amount):
        if amount <= 0:
            raise ValueError("withdrawal must be positive")
        if amount > self.balance:
            raise InsufficientFunds(f"{self.owner} has only {self.balance}")
        self.balance -= amount

    def transfer_to(self, other, amount):
        """Move `amount` from this account to `other`; nothing changes if this one lacks it."""
        other.withdraw(amount)
        self.deposit(amount)
