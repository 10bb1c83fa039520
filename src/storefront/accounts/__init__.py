"""Accounts: registration, login, token rotation and revocation, roles, admin user management."""
