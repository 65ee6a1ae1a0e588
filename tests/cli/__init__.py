"""The `pingan` command as an operator uses it."""
