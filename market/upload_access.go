package market

import "context"

// Visible returns upload id when viewerID ("" for anonymous) may see it: the owner
// always, anyone else only once it is clean and then by kind: gig media once the gig
// is published by an active seller, an avatar to anyone while its owner is active
// (neither disabled nor deleted), an attachment to the conversation's participants,
// a deliverable to the order's buyer once it is part of a delivery. Anyone else gets a
// not-found Error, never forbidden, so ids reveal nothing.
func (u *Uploads) Visible(ctx context.Context, id, viewerID string) (Upload, error) {
	row, err := u.store.Upload(ctx, id)
	if err != nil {
		return Upload{}, err
	}
	if viewerID != "" && row.OwnerID == viewerID {
		return row, nil
	}
	ok, err := u.othersMaySee(ctx, row, viewerID)
	if err != nil {
		return Upload{}, err
	}
	if !ok {
		return Upload{}, ErrNotFound
	}
	return row, nil
}

func (u *Uploads) othersMaySee(ctx context.Context, row Upload, viewerID string) (bool, error) {
	if row.Status != UploadClean {
		return false, nil
	}
	switch row.Kind {
	case UploadAvatar:
		return u.store.OwnerActive(ctx, row.OwnerID)
	case UploadGigImage, UploadGigVideo:
		if row.GigID == nil {
			return false, nil
		}
		_, published, err := u.store.GigForUpload(ctx, *row.GigID)
		return published, err
	case UploadAttachment:
		if row.ConversationID == nil || viewerID == "" {
			return false, nil
		}
		return u.store.IsMember(ctx, *row.ConversationID, viewerID)
	case UploadDeliverable:
		if viewerID == "" {
			return false, nil
		}
		return u.store.DeliveredTo(ctx, row.ID, viewerID)
	}
	return false, nil
}

// DownloadURL returns a short-lived presigned URL for a clean upload viewerID may see
// (see Visible), which downloads as an attachment under its sanitized filename with
// its sniffed content type. An upload that is not clean is not found.
func (u *Uploads) DownloadURL(ctx context.Context, id, viewerID string) (string, Upload, error) {
	row, err := u.Visible(ctx, id, viewerID)
	if err != nil {
		return "", Upload{}, err
	}
	if row.Status != UploadClean || row.ObjectKey == nil || row.ContentType == nil {
		return "", Upload{}, Errorf(CodeNotFound, "the upload is not available for download")
	}
	url, err := u.media.PresignDownload(ctx, *row.ObjectKey, row.Filename, *row.ContentType)
	if err != nil {
		return "", Upload{}, err
	}
	return url, row, nil
}
