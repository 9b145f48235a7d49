"""Thin tasks: ids in, a service call, nothing else."""

from celery import shared_task

from core.outbox import services


@shared_task(acks_late=True, ignore_result=True)
def outbox_deliver(*, message_id: int) -> None:
    services.outbox_deliver(message_id=message_id)


@shared_task(acks_late=True, ignore_result=True)
def outbox_sweep() -> None:
    services.outbox_sweep()
