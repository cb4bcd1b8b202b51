// Package storetest gives tests a private, empty PostgreSQL database on the server
// named by DATABASE_URL (the devstack's), so test packages running in parallel never
// share state.
package storetest
