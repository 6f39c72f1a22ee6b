"""The search engine behind its front door, `front.PhotoSearch` (what `from inference import
PhotoSearch` gives): each folder's index and ranker kept up to date (`folders`), the snapshot
searched (`view`), the search itself (`searching`) and what it answers (`responses`), the
photos withheld and their review, the child rule applied once (`withholding`), and the test
set through it all (`evaluate`)."""
