// The k8s module's public surface. Empty until the tier-provisioning issue adds the charts.
export {};
