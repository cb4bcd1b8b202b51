// Package clamdtest starts private clamd daemons for tests, from Debian's clamd binary
// (scripts/devstack installs it) with the project's signature folder (scripts/clamav) and a
// generated config with small limits, and builds hostile archives in memory to send them.
// No internet and no committed binaries: every archive is made at test time.
package clamdtest
