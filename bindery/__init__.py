"""The Bindery project: what ties the apps into one site (settings, URLs, entry points, the admin site) and
runs its processes. The apps (storefront → api → binding; accounts a leaf) never import it, but for settings
through `django.conf.settings`."""
