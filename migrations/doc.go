// Package migrations holds the numbered SQL migrations of the GigStream schema,
// embedded so that the binary can migrate a database without files on disk.
package migrations
