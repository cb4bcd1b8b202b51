package market

import "context"

// GigMediaPath is where a gig medium's bytes are fetched: the upload download route,
// which authorizes the caller again and redirects to a short-lived presigned URL.
func GigMediaPath(uploadID string) string { return "/uploads/" + uploadID + "/download" }

// withMedia returns gig with all its clean media and its cover.
func (g *Gigs) withMedia(ctx context.Context, gig Gig) (Gig, error) {
	list := []Gig{gig}
	if err := g.attachMedia(ctx, list, false); err != nil {
		return Gig{}, err
	}
	if list[0].Media == nil {
		list[0].Media = []GigMedia{}
	}
	return list[0], nil
}

// attachMedia fills in the media of every gig of list, or only their covers, in one
// query. It returns storage and presigning errors.
func (g *Gigs) attachMedia(ctx context.Context, list []Gig, coversOnly bool) error {
	if len(list) == 0 {
		return nil
	}
	ids := make([]string, len(list))
	byID := make(map[string]*Gig, len(list))
	for i := range list {
		ids[i] = list[i].ID
		byID[list[i].ID] = &list[i]
	}
	media, err := g.store.GigMedia(ctx, ids)
	if err != nil {
		return err
	}
	for _, m := range media {
		if err := g.presentMedia(ctx, &m); err != nil {
			return err
		}
		gig := byID[m.GigID]
		if gig.Cover == nil || gig.Cover.Kind != UploadGigImage && m.Kind == UploadGigImage {
			cover := m
			gig.Cover = &cover
		}
		if !coversOnly {
			gig.Media = append(gig.Media, m)
		}
	}
	return nil
}

// presentMedia sets what a client needs to fetch m: its download path and, for a
// ready video, presigned poster and rendition URLs.
func (g *Gigs) presentMedia(ctx context.Context, m *GigMedia) error {
	m.DownloadPath = GigMediaPath(m.ID)
	if g.uploads == nil || m.VideoStatus == nil {
		return nil
	}
	links, err := g.uploads.VideoLinks(ctx, Upload{Filename: m.Filename, Video: m.Video})
	if err != nil {
		return err
	}
	m.VideoLinks = links
	return nil
}
