"""Where gallery vectors live and how they are ranked: the on-disk index (`index`), its int8 rows
(`vectors`), exact and approximate ranking (`ranking`), and Milvus past one machine (`milvus`)."""
