"""Everything that produces `Reference` records: files, PubMed, the seeds."""
