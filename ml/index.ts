// The ml module's public surface. Empty until the churn-scoring work adds features, training and the scorer.
export {};
