// Package tus is a tus 1.0 resumable-upload engine (core, creation, termination,
// expiration and checksum with sha1) without any HTTP in it: handlers/ maps requests to
// Engine calls and the typed errors to statuses, and store/ keeps each upload's state
// (offset, length, metadata, the S3 multipart upload id and parts) behind StateStore.
//
// Bytes go straight to an S3 multipart upload: every full part is sent as soon as it is
// complete, and the few bytes of a PATCH that do not fill a part are kept as a small tail
// object until the next PATCH, so a dropped connection loses nothing that arrived.
//
// How the scan sees the whole stream: a tus upload arrives over many requests, possibly
// hours apart and on different hub nodes, while clamd's INSTREAM wants one connection
// for one stream. Rather than keep a clamd connection open across requests, the engine
// completes the multipart upload once the last byte is in and then scans the assembled
// object, read back from S3, with media.Pipeline.Verify (which also sniffs the type and
// hashes it). Until Verify says clean the upload's status is StatusScanning and nothing
// points to the object, so it cannot be downloaded; a rejected object is deleted. This
// costs one more read of the object, in exchange for a scan that always covers every
// byte in order, whatever happened between the requests.
package tus
