package market

import (
	"testing"
	"time"
)

func TestPlanChatReachIsOnePerMemberConversationAndChannel(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC)
	arrivals := []ChatArrival{
		{ConversationID: "c1", Seq: 1, SenderID: "a", At: t0.Add(time.Second), Recipients: []string{"b"}},
		{ConversationID: "c1", Seq: 2, SenderID: "a", At: t0, Recipients: []string{"b"}},
		{ConversationID: "c1", Seq: 3, SenderID: "b", At: t0.Add(2 * time.Second), Recipients: []string{"a"}},
		{ConversationID: "c2", Seq: 1, SenderID: "a", At: t0, Recipients: []string{"a", "b", "c"}},
	}
	got := PlanChatReach(arrivals, 3*time.Second, time.Minute)
	want := map[ChatReach]bool{
		{UserID: "b", ConversationID: "c1", Channel: ReachPush, Due: t0.Add(3 * time.Second)}:              true,
		{UserID: "b", ConversationID: "c1", Channel: ReachEmail, Due: t0.Add(time.Minute)}:                 true,
		{UserID: "a", ConversationID: "c1", Channel: ReachPush, Due: t0.Add(5 * time.Second)}:              true,
		{UserID: "a", ConversationID: "c1", Channel: ReachEmail, Due: t0.Add(2*time.Second + time.Minute)}: true,
		{UserID: "b", ConversationID: "c2", Channel: ReachPush, Due: t0.Add(3 * time.Second)}:              true,
		{UserID: "b", ConversationID: "c2", Channel: ReachEmail, Due: t0.Add(time.Minute)}:                 true,
		{UserID: "c", ConversationID: "c2", Channel: ReachPush, Due: t0.Add(3 * time.Second)}:              true,
		{UserID: "c", ConversationID: "c2", Channel: ReachEmail, Due: t0.Add(time.Minute)}:                 true,
	}
	if len(got) != len(want) {
		t.Fatalf("planned %d follow-ups, want %d: %+v", len(got), len(want), got)
	}
	for _, r := range got {
		if !want[r] {
			t.Errorf("unexpected follow-up %+v (the sender is never reached; the earliest message sets the due time)", r)
		}
	}
	if got := PlanChatReach(arrivals, 0, 0); len(got) != 0 {
		t.Errorf("channels off, yet planned %+v", got)
	}
}
