"""The child-image detector's serving half and the owner's review: its faces and ages (`faces`),
its combiner and the reason it gives (`detector`), the decision of what a folder withholds
(`decisions`), and the releases a person records, with their audit log (`releases`)."""
