"""Authentication: bcrypt passwords, HS256 JWTs with revocation, Powertools middlewares."""
