package media

import (
	"errors"
	"testing"
)

func TestPolicies(t *testing.T) {
	var cfg Config
	avatar, _ := cfg.Policy(KindAvatar)
	if avatar.MaxSize != 5*MB || !avatar.Allows(TypePNG) || avatar.Allows(TypeSVG) || avatar.Allows(TypeHTML) {
		t.Errorf("avatar policy = %+v", avatar)
	}
	video, _ := cfg.Policy(KindGigVideo)
	if !video.Allows(TypeWebM) || !video.Allows(TypeQuickTime) || video.Allows(TypeJPEG) {
		t.Errorf("gig video policy = %+v", video)
	}
	att, _ := cfg.Policy(KindAttachment)
	for _, ct := range []string{TypePDF, TypeZip, TypeDOCX, TypeMP4, TypeJPEG, TypeText} {
		if !att.Allows(ct) {
			t.Errorf("attachment refuses %s", ct)
		}
	}
	for _, ct := range []string{TypeELF, TypePE, TypeHTML, TypeSVG, TypeShell} {
		if att.Allows(ct) {
			t.Errorf("attachment allows %s", ct)
		}
	}
	del, _ := cfg.Policy(KindDeliverable)
	if del.MaxSize != DefaultScanLimit || !del.Allows(TypeELF) {
		t.Errorf("deliverable policy = %+v; want its 5 GB capped to what clamd can scan", del)
	}
	if del, _ := (Config{ScanLimit: 8 * GB}).Policy(KindDeliverable); del.MaxSize != 5*GB {
		t.Errorf("deliverable limit under a larger scan limit = %d, want 5 GB", del.MaxSize)
	}

	cfg = Config{Policies: map[Kind]Policy{
		KindAvatar:      {MaxSize: 1 * MB},
		KindDeliverable: {Allowed: []string{TypeZip}},
	}}
	avatar, _ = cfg.Policy(KindAvatar)
	if avatar.MaxSize != 1*MB || !avatar.Allows(TypePNG) {
		t.Errorf("overridden avatar policy = %+v", avatar)
	}
	del, _ = cfg.Policy(KindDeliverable)
	if del.MaxSize != DefaultScanLimit || del.Allows(TypeELF) || !del.Allows(TypeZip) {
		t.Errorf("overridden deliverable policy = %+v", del)
	}
	if _, err := cfg.Policy("selfie"); !errors.Is(err, ErrUnknownKind) {
		t.Errorf("unknown kind: %v", err)
	}
	if k, err := ParseKind("gig_video"); k != KindGigVideo || err != nil {
		t.Errorf("ParseKind = %q, %v", k, err)
	}
}
