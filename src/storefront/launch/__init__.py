"""Process supervision, never imported by a worker (`just lint` and a test check): `serve` and
`cluster`, the one bring-up of the backing services they share, the embedded PostgreSQL and Valkey,
nginx, PgBouncer, child processes, the DATA_DIR layout and the development mail sink. It imports
only the platform and the error vocabulary."""
