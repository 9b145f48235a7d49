"""Thin Celery tasks of case summaries: ids in, a service call, nothing else.

Rendering is not a task of its own: the outbox delivers "casework.summary_render" (core.outbox.tasks), whose
handler makes the PDF. Importing the services registers that handler in the worker.
"""

from celery import shared_task

from casework.services import summaries as services


@shared_task(acks_late=True, ignore_result=True)
def summaries_expire() -> None:
    services.summaries_expire()
