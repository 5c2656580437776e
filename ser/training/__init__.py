"""Learning: the networks (`model`), arrays for them (`dataset`), fitting (`fit`), a whole training run (`train`), cross-validation (`cv`), background runs (`runs`) and their progress."""
