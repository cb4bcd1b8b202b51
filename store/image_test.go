package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/store"
)

// settleImage creates an upload of kind (for gigID when not "") and makes it clean
// with contentType.
func settleImage(t *testing.T, db *store.DB, owner string, kind market.UploadKind, gigID, contentType string) market.Upload {
	t.Helper()
	ctx := context.Background()
	in := market.NewUpload{OwnerID: owner, Kind: kind, Filename: "p.img"}
	if gigID != "" {
		in.GigID = &gigID
	}
	up, _, err := db.CreateUpload(ctx, in)
	must(t, err)
	done, _, err := db.SettleUpload(ctx, up.ID, market.StoredObject{Key: "u/" + owner + "/" + up.ID, Size: 10,
		SHA256: strings.Repeat("b", 64), ContentType: contentType, Filename: "p.img"})
	must(t, err)
	return done
}

func imageJobs(t *testing.T, db *store.DB) int64 {
	t.Helper()
	stats, err := db.JobQueueStats(context.Background())
	must(t, err)
	var n int64
	for _, s := range stats {
		if s.Kind == "upload_image" && s.Queue == store.QueueMedia {
			n += s.Queued
		}
	}
	return n
}

func madeOf(id string) market.ImageMade {
	return market.ImageMade{Width: 800, Height: 600, Placeholder: "LEHV6nWB2yk8pyo0adR*.7kCMdnj", Variants: []market.StoredVariant{
		{Width: 320, Height: 240, Format: "webp", Key: id + "/w320.webp", SHA256: strings.Repeat("1", 63) + id[:1], Size: 100},
		{Width: 800, Height: 600, Format: "webp", Key: id + "/w800.webp", SHA256: strings.Repeat("2", 63) + id[:1], Size: 300},
		{Width: 800, Height: 600, Format: "jpeg", Key: id + "/w800.jpg", SHA256: strings.Repeat("3", 63) + id[:1], Size: 400},
	}}
}

// A clean gig image is pending with one image job queued in the transaction that made
// it clean; a rejected upload, a video and an AVIF get none. Its variants are public
// exactly while its gig is published, in the gig's media (widest first, WebP first).
func TestImageVariantsAreQueuedForCleanImagesAndPublicWhileTheGigIs(t *testing.T) {
	ctx := context.Background()
	db, _, seller := gigFixture(t)
	gig := newGig(t, db, seller, "Logo design with images", "design", basicAt(100))
	img := settleImage(t, db, seller, market.UploadGigImage, gig.ID, "image/jpeg")
	if img.ImageStatus == nil || *img.ImageStatus != market.ImagePending || imageJobs(t, db) != 1 {
		t.Fatalf("clean image: status %v, %d jobs; want pending and 1", img.ImageStatus, imageJobs(t, db))
	}
	rejected, _, err := db.CreateUpload(ctx, market.NewUpload{OwnerID: seller, Kind: market.UploadGigImage, GigID: &gig.ID})
	must(t, err)
	_, _, err = db.RejectUpload(ctx, rejected.ID, "rejected by the virus scanner", "Eicar-Test-Signature")
	must(t, err)
	if avif := settleImage(t, db, seller, market.UploadGigImage, gig.ID, "image/avif"); avif.ImageStatus != nil {
		t.Errorf("AVIF image status %v, want none", *avif.ImageStatus)
	}
	if n := imageJobs(t, db); n != 1 {
		t.Fatalf("%d image jobs after a rejected upload and an AVIF, want 1", n)
	}

	made := madeOf(img.ID)
	done, ev, err := db.FinishImage(ctx, img.ID, made)
	must(t, err)
	if *done.ImageStatus != market.ImageReady || *done.ImageWidth != 800 || ev.Type != "upload.image" {
		t.Fatalf("finished image %+v, event %s", done.Image, ev.Type)
	}
	if _, _, err := db.FinishImage(ctx, img.ID, made); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second FinishImage: %v, want not found", err)
	}
	media, err := db.GigMedia(ctx, []string{gig.ID})
	must(t, err)
	var pic *market.Picture
	for _, m := range media {
		if m.ID == img.ID {
			pic = m.Picture
		}
	}
	if pic == nil || pic.Width != 800 || pic.Placeholder != made.Placeholder || len(pic.Variants) != 3 ||
		pic.Variants[0].Format != "webp" || pic.Variants[0].Width != 800 || pic.Variants[1].Format != "jpeg" ||
		pic.Variants[2].URL != "/media/"+made.Variants[0].SHA256+".webp" {
		t.Fatalf("gig media picture %+v", pic)
	}

	hash := made.Variants[2].SHA256
	public := func() bool {
		_, err := db.PublicVariant(ctx, hash, "jpeg")
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}
	if public() {
		t.Fatal("a draft gig's image is public")
	}
	_, err = db.SetGigStatus(ctx, gig.ID, seller, market.GigPublished)
	must(t, err)
	if !public() {
		t.Fatal("a published gig's image is not public")
	}
	if _, err := db.PublicVariant(ctx, hash, "webp"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the JPEG's hash as WebP: %v, want not found", err)
	}
	_, err = db.SetGigStatus(ctx, gig.ID, seller, market.GigPaused)
	must(t, err)
	if public() {
		t.Fatal("a paused gig's image is still public")
	}
}

// An avatar's variants are public while its owner is active, and the profile shows
// them.
func TestAvatarVariantsArePublicWhileTheOwnerIsActive(t *testing.T) {
	ctx := context.Background()
	db, buyer, _ := gigFixture(t)
	avatar := settleImage(t, db, buyer, market.UploadAvatar, "", "image/png")
	made := madeOf(avatar.ID)
	_, _, err := db.FinishImage(ctx, avatar.ID, made)
	must(t, err)
	details, err := db.ProfileDetails(ctx, buyer)
	must(t, err)
	if details.AvatarImage == nil || len(details.AvatarImage.Variants) != 3 || details.AvatarImage.Height != 600 {
		t.Fatalf("profile avatar %+v", details.AvatarImage)
	}
	if _, err := db.PublicVariant(ctx, made.Variants[0].SHA256, "webp"); err != nil {
		t.Fatalf("active owner's avatar: %v", err)
	}
	_, err = db.SetDisabled(ctx, "a@x.test", true)
	must(t, err)
	if _, err := db.PublicVariant(ctx, made.Variants[0].SHA256, "webp"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("disabled owner's avatar: %v, want not found", err)
	}
	if _, _, err := db.FailImage(ctx, avatar.ID, "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("FailImage of a ready image: %v, want not found", err)
	}
}
