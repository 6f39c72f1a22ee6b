"""The exported models on onnxruntime: `exported.SearchModels` (the three graphs, the tokenizers,
the detector and the policy's net), what export hands over (`manifest`), image preprocessing
(`preprocess`), tokenisation (`text`) and sessions (`sessions`)."""
