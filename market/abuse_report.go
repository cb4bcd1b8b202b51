package market

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// The page sizes of the admins' report queue.
const (
	DefaultAbuseReportPage = 50
	MaxAbuseReportPage     = 100
	// MaxAbuseReportDetails is the most a reporter may write, in bytes.
	MaxAbuseReportDetails = 2000
)

// What users report, why, and what became of a report.
const (
	ReportGig     = "gig"
	ReportMessage = "message"
	ReportUser    = "user"

	ReportOpen      = "open"
	ReportActioned  = "actioned"
	ReportDismissed = "dismissed"
)

// AbuseReportReasons are the reasons a reporter may choose.
var AbuseReportReasons = []string{"spam", "scam", "offensive", "intellectual_property", "other"}

// AbuseReports are users' reports of gigs, messages and profiles, and the admins'
// queue that works through them: a user reports what they can see, an admin lists the
// open reports oldest first and marks each actioned (after acting: a gig takedown, an
// account disabled) or dismissed, with a note.
type AbuseReports struct {
	store    AbuseReportStore
	realtime *Realtime // publishes report.resolved at once; nil leaves it to the relay
	log      *slog.Logger
}

// AbuseReportStore is the storage of abuse reports; store/ implements it.
type AbuseReportStore interface {
	// CreateAbuseReport stores a report of a target the reporter can see now (a
	// published gig of an active seller, a message of a conversation they are in, an
	// active user), with a copy of it; a target they cannot see wraps ErrNotFound, one
	// of their own is an invalid Error naming target_id. Reporting a target again
	// while the first report is open returns that report and created false.
	CreateAbuseReport(ctx context.Context, in NewAbuseReport) (report AbuseReport, created bool, err error)
	// AbuseReports lists up to limit reports in status, oldest first, after the key.
	AbuseReports(ctx context.Context, status string, after *PageKey, limit int) ([]AbuseReport, error)
	// ResolveAbuseReport closes an open report and returns the reporter's
	// report.resolved event (see ReportOutcome), stored in the same transaction; a
	// closed one is a conflict Error, a missing one wraps ErrNotFound.
	ResolveAbuseReport(ctx context.Context, id, adminID, outcome, note string) (AbuseReport, Event, error)
}

// NewAbuseReport is a report as a user files it, checked by CheckNewAbuseReport.
type NewAbuseReport struct {
	ReporterID string
	TargetKind string `json:"target_kind"`
	TargetID   string `json:"target_id"`
	Reason     string `json:"reason"`
	Details    string `json:"details"`
}

// AbuseReport is a stored report with what it reported and what became of it.
type AbuseReport struct {
	ID             string     `json:"id" db:"id"`
	ReporterID     string     `json:"reporter_id" db:"reporter_id"`
	TargetKind     string     `json:"target_kind" db:"target_kind"`
	TargetID       string     `json:"target_id" db:"target_id"`
	TargetOwnerID  string     `json:"target_owner_id" db:"target_owner_id"`
	Excerpt        string     `json:"excerpt" db:"excerpt"`
	Reason         string     `json:"reason" db:"reason"`
	Details        string     `json:"details" db:"details"`
	Status         string     `json:"status" db:"status"`
	ResolutionNote *string    `json:"resolution_note" db:"resolution_note"`
	ResolvedBy     *string    `json:"resolved_by" db:"resolved_by"`
	ResolvedAt     *time.Time `json:"resolved_at" db:"resolved_at"`
	CreatedAt      time.Time  `json:"created_at" db:"created_at"`
}

// NewAbuseReports returns the abuse-report use cases over their store; rt (nil: none)
// publishes the outcome to the reporter at once.
func NewAbuseReports(s AbuseReportStore, rt *Realtime, log *slog.Logger) *AbuseReports {
	if log == nil {
		log = slog.Default()
	}
	return &AbuseReports{store: s, realtime: rt, log: log}
}

// ReportOutcome is what a reporter learns when an admin resolves their report: the
// data of report.resolved on the reporter's user channel, and of the report_resolved
// notification made from it. It carries neither the admin's note (their internal
// record, which may discuss the reported party) nor who resolved it.
type ReportOutcome struct {
	ID         string     `json:"id"`
	TargetKind string     `json:"target_kind"`
	TargetID   string     `json:"target_id"`
	Excerpt    string     `json:"excerpt"`
	Reason     string     `json:"reason"`
	Status     string     `json:"status"` // actioned or dismissed
	ResolvedAt *time.Time `json:"resolved_at"`
}

// ReportOutcomeOf is what the reporter of rep is told of its resolution.
func ReportOutcomeOf(rep AbuseReport) ReportOutcome {
	return ReportOutcome{ID: rep.ID, TargetKind: rep.TargetKind, TargetID: rep.TargetID, Excerpt: rep.Excerpt,
		Reason: rep.Reason, Status: rep.Status, ResolvedAt: rep.ResolvedAt}
}

// CheckNewAbuseReport refuses a report with an unknown kind or reason, a target id
// that is no UUID, or details over MaxAbuseReportDetails (invalid Errors naming the
// field), and trims the details.
func CheckNewAbuseReport(in NewAbuseReport) (NewAbuseReport, error) {
	switch {
	case in.TargetKind != ReportGig && in.TargetKind != ReportMessage && in.TargetKind != ReportUser:
		return in, FieldError(CodeInvalid, "target_kind", "one of gig, message, user")
	case !uuidText.MatchString(in.TargetID):
		return in, FieldError(CodeInvalid, "target_id", "the id of the gig, message or user")
	case !slices.Contains(AbuseReportReasons, in.Reason):
		return in, FieldError(CodeInvalid, "reason", "one of "+strings.Join(AbuseReportReasons, ", "))
	}
	in.Details = strings.TrimSpace(in.Details)
	if len(in.Details) > MaxAbuseReportDetails || !utf8.ValidString(in.Details) {
		return in, FieldError(CodeInvalid, "details", "at most 2000 bytes of UTF-8 text")
	}
	return in, nil
}

// Report files a user's report (see AbuseReportStore.CreateAbuseReport for its
// errors and for a repeated report).
func (r *AbuseReports) Report(ctx context.Context, in NewAbuseReport) (AbuseReport, bool, error) {
	in, err := CheckNewAbuseReport(in)
	if err != nil {
		return AbuseReport{}, false, err
	}
	return r.store.CreateAbuseReport(ctx, in)
}

// Queue pages the reports in status (default open) for an admin, oldest first;
// anyone else gets ErrNotFound, an unknown status an invalid Error naming status.
func (r *AbuseReports) Queue(ctx context.Context, admin User, status string, after *PageKey, limit int) ([]AbuseReport, error) {
	if !admin.IsAdmin {
		return nil, ErrNotFound
	}
	if status == "" {
		status = ReportOpen
	}
	if status != ReportOpen && status != ReportActioned && status != ReportDismissed {
		return nil, FieldError(CodeInvalid, "status", "one of open, actioned, dismissed")
	}
	return r.store.AbuseReports(ctx, status, after, limit)
}

// Resolve closes an open report as actioned or dismissed with an admin's note (an
// invalid Error naming outcome or note otherwise) and tells the reporter the outcome
// (report.resolved, then a report_resolved notification), never the note; non-admins
// get ErrNotFound.
func (r *AbuseReports) Resolve(ctx context.Context, admin User, id, outcome, note string) (AbuseReport, error) {
	if !admin.IsAdmin {
		return AbuseReport{}, ErrNotFound
	}
	if outcome != ReportActioned && outcome != ReportDismissed {
		return AbuseReport{}, FieldError(CodeInvalid, "outcome", "actioned or dismissed")
	}
	if note = strings.TrimSpace(note); len(note) > MaxAbuseReportDetails || !utf8.ValidString(note) {
		return AbuseReport{}, FieldError(CodeInvalid, "note", "at most 2000 bytes of UTF-8 text")
	}
	if !uuidText.MatchString(id) {
		return AbuseReport{}, ErrNotFound
	}
	rep, ev, err := r.store.ResolveAbuseReport(ctx, id, admin.ID, outcome, note)
	if err != nil {
		return rep, err
	}
	r.log.InfoContext(ctx, "abuse report resolved", "report_id", id, "outcome", outcome, "admin_id", admin.ID)
	r.realtime.PublishCommitted(ctx, ev)
	return rep, nil
}
