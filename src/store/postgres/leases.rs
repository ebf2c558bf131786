//! Leases in PostgreSQL: a row per lease with its holder and when it runs out, in the
//! server's clock, which every replica shares whatever its own machine's says.

use std::time::Duration;

use super::Postgres;
use crate::store::StoreError;
use crate::store::backend::Leases;

impl Leases for Postgres {
    fn take_lease(&self, name: &str, holder: &str, ttl: Duration) -> Result<bool, StoreError> {
        let ttl = ttl.as_secs_f64();
        self.write(async |tx| {
            Ok(tx
                .query_opt(
                    "INSERT INTO leases (name, holder, until)
                     VALUES ($1, $2, now() + make_interval(secs => $3))
                     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,
                         until = excluded.until
                     WHERE leases.holder = excluded.holder OR leases.until <= now()
                     RETURNING holder",
                    &[&name, &holder, &ttl],
                )
                .await?
                .is_some())
        })
    }

    fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        self.write(async |tx| {
            tx.execute(
                "DELETE FROM leases WHERE name = $1 AND holder = $2",
                &[&name, &holder],
            )
            .await?;
            Ok(())
        })
    }
}
