"""Notifications that leave the server: Web Push to phones, webhooks to receivers."""
