// Package docs embeds the hub's public API description so that the binary can serve it.
package docs
