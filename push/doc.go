// Package push is GigStream's outbound reach: email over SMTP (with embedded
// templates) and mobile/web push through Firebase Cloud Messaging.
//
// It imports nothing else of ours. SDK clients come in through the narrow
// interfaces declared here (FCMClient, TokenStore), configuration through small
// structs whose zero value means the documented default (SMTPConfig,
// SenderConfig; FCMConfig needs a project and a key). Package-level values are
// only immutable ones: sentinel errors, embedded templates, compiled patterns.
//
// Wiring, in cmd/:
//
//	mailer := push.NewSMTPMailer(push.SMTPConfig{Addr: env.SMTPAddr, From: env.MailFrom})
//	e, err := push.VerifyEmail(user.Email, user.DisplayName, link)
//	if err == nil { err = mailer.Send(ctx, e) }
//
//	client, err := push.NewFirebaseClient(ctx, push.FCMConfig{ProjectID: id, CredentialsJSON: key})
//	sender := push.NewSender(client, store, push.SenderConfig{Metrics: reg})
//	sender.Start(ctx)      // workers; cancel ctx to abandon what is queued
//	defer sender.Close()   // stop accepting, drain the queue
//	sender.Notify(ctx, push.Notification{UserID: id, CollapseKey: "conversation:" + cid, Title: from, Body: preview})
//
// Tests point the real firebase-admin-go client at push/fcmtest, a local FCM
// v1 endpoint with its own OAuth token exchange, and send mail to the
// devstack's Mailpit (SMTP_ADDR, MAILPIT_URL).
package push
