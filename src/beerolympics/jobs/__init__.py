"""Background jobs: kinds, the worker that runs them, the supervisor that retries lost ones."""
