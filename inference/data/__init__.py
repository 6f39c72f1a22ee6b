"""The data set: reading its tables (`dataset`), finding or downloading it (`download`), and the
retrieval figures every report quotes (`metrics`)."""
