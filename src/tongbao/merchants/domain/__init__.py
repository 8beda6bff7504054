"""Pure rules of the merchant side: no database, no HTTP, no I/O."""
