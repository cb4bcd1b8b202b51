// Package gigindex is the catalogue's search engine: an in-memory inverted index of
// the published gigs, one per node, fed from PostgreSQL by store.GigSearch.
//
// It answers what a SQL full-text search cannot answer cheaply at 100,000 gigs: the
// top of a ranked list of tens of thousands of matches, facet counts over all of them,
// typo tolerance and prefixes, in well under a millisecond of CPU. Text is analyzed as
// PostgreSQL's 'english' configuration does (the same Snowball stemmer and stop words),
// so the engine and the SQL path (which serves quoted phrases) agree on what a word is.
//
// Ranking is BM25 over three fields weighted like ts_rank's A/B/C (title 1, tags 0.4,
// description 0.2). A query word that is not in the index is corrected to the most
// frequent words within one edit (4–7 letters) or two (8 and more), transpositions
// counting as one; the last word of a query also matches as a prefix. Exact matches
// outrank prefix completions, which outrank corrections.
//
// Changes are appended: a changed gig gets a new document number and its old one is
// marked dead, so posting lists stay sorted without rewriting; the owner rebuilds the
// index from the database when too much of it is dead (Garbage).
package gigindex
