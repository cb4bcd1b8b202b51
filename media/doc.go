// Package media is the upload pipeline: size limits, content sniffing, ClamAV
// scanning and S3 storage. It talks to clamd and S3 only through the narrow
// interfaces declared here, whose real clients are handed in by cmd/.
package media
