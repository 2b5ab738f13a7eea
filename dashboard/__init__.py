"""The web tier: Dash app factory, pages, components, figures, i18n and the weekly briefing."""
