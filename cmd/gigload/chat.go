package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// openConversations opens (or finds) the conversation of each receiver with its
// sender, and points the receiver's sockets at it.
func openConversations(ctx context.Context, node string, receivers, senders []user, logf func(string, ...any)) error {
	client := &http.Client{Timeout: 30 * time.Second}
	for i := range receivers {
		body, _ := json.Marshal(map[string]string{"participant_id": receivers[i].ID})
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, node+"/conversations", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+senders[i].Token)
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("open conversation %d: %w", i, err)
		}
		var c struct{ ID string }
		err = json.NewDecoder(resp.Body).Decode(&c)
		resp.Body.Close()
		if err != nil || c.ID == "" || resp.StatusCode/100 != 2 {
			return fmt.Errorf("open conversation %d: status %s", i, resp.Status)
		}
		receivers[i].Channel = "conversation:" + c.ID
	}
	logf("%d conversations open", len(receivers))
	return nil
}

// sendOne sends chat message number i as the sender of its conversation, stamped
// with the time the call starts in its text ("t=<unix nanos> i=<i>").
func (p *publisher) sendOne(ctx context.Context, body []byte, i int) []byte {
	ch := i % len(p.channels)
	node := p.cfg.PubNodes[i%len(p.cfg.PubNodes)]
	conv := p.channels[ch][len("conversation:"):]
	start := time.Now()
	body = append(body, `{"client_id":"`...)
	body = append(body, uuid.NewString()...)
	body = append(body, `","text":"t=`...)
	body = strconv.AppendInt(body, start.UnixNano(), 10)
	body = append(body, ` i=`...)
	body = strconv.AppendInt(body, int64(i), 10)
	body = append(body, `"}`...)
	p.post(ctx, "send", node+"/conversations/"+conv+"/messages", p.senders[ch].Token, body, http.StatusCreated, ch, start)
	return body
}
