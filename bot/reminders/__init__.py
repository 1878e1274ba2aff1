"""The outbox engine: knows when reminders fall due and to whom; asks a sender to deliver them."""

from .engine import ByChannel, DeliveryError, ReminderEngine, RetryLater, Sender, Undeliverable

__all__ = ["ByChannel", "DeliveryError", "ReminderEngine", "RetryLater", "Sender", "Undeliverable"]
