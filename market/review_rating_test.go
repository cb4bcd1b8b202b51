package market

import (
	"encoding/json"
	"testing"
)

func TestSummarizeRoundsTheMeanHalfUp(t *testing.T) {
	for _, c := range []struct {
		counts [5]int
		count  int
		avg    float64
	}{
		{[5]int{}, 0, 0},
		{[5]int{0, 0, 0, 0, 1}, 1, 5},
		{[5]int{0, 0, 0, 1, 2}, 3, 4.67}, // 14/3 = 4.666…
		{[5]int{1, 0, 0, 0, 1}, 2, 3},
		{[5]int{0, 0, 1, 0, 7}, 8, 4.75}, // 38/8
		{[5]int{0, 0, 0, 7, 1}, 8, 4.13}, // 33/8 = 4.125 → half up
		{[5]int{2, 0, 0, 0, 0}, 2, 1},
		{[5]int{0, 1, 0, 0, 2}, 3, 4}, // 12/3
		{[5]int{0, 0, 0, 0, 1000000}, 1000000, 5},
	} {
		s := Summarize(c.counts)
		if s.Count != c.count || s.Average != c.avg || s.Distribution != c.counts {
			t.Errorf("Summarize(%v) = %+v; want count %d, average %v", c.counts, s, c.count, c.avg)
		}
	}
}

func TestGigRatingShowsTheRoundedMean(t *testing.T) {
	for _, c := range []struct {
		r    GigRating
		want string
	}{
		{GigRating{}, `{"count":0,"average":0}`},
		{GigRating{Count: 3, Total: 14}, `{"count":3,"average":4.67}`},
		{GigRating{Count: 8, Total: 33}, `{"count":8,"average":4.13}`},
	} {
		got, err := json.Marshal(c.r)
		if err != nil || string(got) != c.want {
			t.Errorf("%+v marshals to %s, %v; want %s", c.r, got, err, c.want)
		}
	}
}

func TestGigRatingSurvivesItsJSON(t *testing.T) {
	counts := []int{1000, 4999, 100003}
	for c := range 160 {
		counts = append(counts, c)
	}
	for _, count := range counts {
		for total := count; total <= 5*count; total += max(1, count/997) {
			in := GigRating{Count: count, Total: total}
			raw, err := json.Marshal(in)
			if err != nil {
				t.Fatal(err)
			}
			var out GigRating
			if err := json.Unmarshal(raw, &out); err != nil {
				t.Fatal(err)
			}
			again, _ := json.Marshal(out)
			if string(again) != string(raw) {
				t.Fatalf("count %d total %d: %s came back as %s", count, total, raw, again)
			}
		}
	}
}
