package e2e

import (
	"encoding/json"
	"testing"

	"github.com/google/uuid"
)

// sendAttachments posts a message with attachments (and text, which may be "").
func sendAttachments(c *client, conv, text string, ids ...string) response {
	return c.do("POST", "/conversations/"+conv+"/messages", map[string]any{"client_id": newClientID(), "text": text, "attachments": ids})
}

// attachmentUpload uploads a PNG as an attachment of conv and returns its clean upload id.
func attachmentUpload(t *testing.T, n *Node, token, query string) string {
	t.Helper()
	var up uploaded
	expect(t, uploadRaw(t, n, token, "filename=p.png&"+query, pngBytes(t)), 201, "upload "+query).json(t, &up)
	if up.Status != "clean" {
		t.Fatalf("upload %s: %+v", query, up)
	}
	return up.ID
}

// A message carries only clean attachments the sender uploaded to that conversation;
// anything else (another user's upload, one made for another conversation, an avatar, one
// still uploading, a rejected one, an unknown id, the same id twice) is 422 naming
// attachments, and nothing is sent. A message may be attachments only.
func TestAbuseChatAttachmentsMustBeTheSendersCleanUploadsForThatConversation(t *testing.T) {
	n := startCluster(t, 1, realtimeEnv(nil))[0]
	a, b, _, _, conv := chatPair(t, n)
	cID, _ := appUser(t, n, "third")
	var other struct{ ID string }
	expect(t, a.do("POST", "/conversations", map[string]string{"participant_id": cID}), 201, "second conversation").json(t, &other)

	mine := attachmentUpload(t, n, a.bearer, "kind=attachment&conversation_id="+conv)
	bad := map[string]string{
		"the other member's upload":          attachmentUpload(t, n, b.bearer, "kind=attachment&conversation_id="+conv),
		"an upload for another conversation": attachmentUpload(t, n, a.bearer, "kind=attachment&conversation_id="+other.ID),
		"the sender's avatar":                attachmentUpload(t, n, a.bearer, "kind=avatar"),
		"an unknown id":                      uuid.NewString(),
	}
	url, uploading := tusCreate(t, n, a.bearer, 1000, tusMetadata("filename", "half.png", "kind", "attachment", "conversation_id", conv))
	expect(t, tusPatch(t, url, a.bearer, 0, pngBytes(t)[:40]), 204, "first half")
	bad["an upload still uploading"] = uploading
	url, rejected := tusCreate(t, n, a.bearer, len(eicar()), tusMetadata("filename", "e.txt", "kind", "attachment", "conversation_id", conv))
	expect(t, tusPatch(t, url, a.bearer, 0, eicar()), 422, "infected attachment")
	bad["a rejected upload"] = rejected

	for what, id := range bad {
		expectField(t, sendAttachments(a, conv, "look", mine, id), 422, "attachments", what)
	}
	expectField(t, sendAttachments(a, conv, "twice", mine, mine), 422, "attachments", "the same upload twice")
	expectField(t, sendAttachments(a, conv, ""), 422, "text", "neither text nor attachments")

	var msg struct {
		Seq         uint64
		Text        string
		Attachments []string
	}
	expect(t, sendAttachments(a, conv, "", mine), 201, "attachments only").json(t, &msg)
	if msg.Text != "" || len(msg.Attachments) != 1 || msg.Attachments[0] != mine {
		t.Fatalf("attachment-only message = %+v", msg)
	}
	var page struct{ Messages []json.RawMessage }
	expect(t, b.do("GET", "/conversations/"+conv+"/messages", nil), 200, "history").json(t, &page)
	if len(page.Messages) != 1 {
		t.Fatalf("history has %d messages, want only the attachment-only one", len(page.Messages))
	}
	expect(t, as(t, n, b.bearer, "GET", "/uploads/"+mine+"/download"), 302, "the other member downloads the attachment")
}
