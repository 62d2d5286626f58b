"""The storefront app: the shop's pages, checkout, the account pages, the presenter, the dashboard, health."""
