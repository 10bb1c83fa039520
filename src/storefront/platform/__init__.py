"""What a request worker runs, with no Litestar and no domain in it: settings, the database pool and
its named queries, migrations, the Valkey client, the rate-limit engine, cached views, logging, the
outbox and its mail transports, the background jobs and the drain flag. Everything above may import
it; it imports nothing above (`just lint` checks)."""
