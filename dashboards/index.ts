// The dashboards module's public surface. Empty until the dashboards work adds the analysts' pages.
export {};
