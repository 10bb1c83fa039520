"""Infrastructure with no Litestar and no domain in it: settings, the database pool and its named
queries, migrations, the Valkey client, the rate-limit engine, cached views, logging, and the
embedded servers with the launcher that runs them. Everything above may import it; it imports
nothing above (`just lint` checks)."""
