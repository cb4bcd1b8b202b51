// Package push is GigStream's outbound reach: email over SMTP (with embedded
// templates) and mobile/web push through Firebase Cloud Messaging.
//
// It imports nothing else of ours. SDK clients come in through the narrow
// interfaces declared here (FCMClient, TokenStore), configuration through small
// structs whose zero value means the documented default (SMTPConfig,
// SenderConfig, FCMConfig). Nothing in this package is held in package-level
// variables except immutable sentinel errors and embedded templates.
package push
