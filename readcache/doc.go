// Package readcache keeps public read models (a gig's page, a profile, the category
// list) in Redis so that every node answers a hot read without PostgreSQL, and never
// answers what was true before a write it has heard of.
//
// Each key has a generation, a counter in Redis that an invalidation increments. A
// reader that misses learns the generation together with the miss, reads the
// database, and stores what it read only if the generation is still the one it saw
// (a Lua script checks and writes in one step). A writer invalidates after its commit.
// Whatever the interleaving, the stale reader loses: either the invalidation came
// first and the check fails, or the store came first and the invalidation makes that
// value a miss (a value carries the generation it was read under).
//
// A key's generation and value share a hash tag ({key}), so both live in one slot of a
// Redis Cluster and the script may touch both. Generations outlive values by far
// (GenerationTTL against the value TTLs of the caller), so a counter never restarts
// while a reader that saw it may still be storing.
//
// Errors: Redis being down is returned from Load, Fill and Invalidate wrapped with %w;
// the caller reads the database instead, and values stop being served at their TTL.
package readcache
