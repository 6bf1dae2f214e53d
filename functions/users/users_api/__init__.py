"""Users function: registration, login, profiles, password changes, admin user management."""
