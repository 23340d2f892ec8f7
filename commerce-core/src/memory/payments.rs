//! Payments and providers' events in memory.

use super::*;

/// A provider's payment is recorded once: no other payment has its provider and reference.
fn check_payment_reference(s: &State, payment: &Payment) -> Result<(), StorageError> {
    let Some(reference) = payment.provider_reference.as_deref() else {
        return Ok(());
    };
    if s.payments.values().any(|p| {
        p.id != payment.id
            && p.provider == payment.provider
            && p.provider_reference.as_deref() == Some(reference)
    }) {
        return Err(StorageError::Duplicate(UniqueRule::PaymentReference));
    }
    Ok(())
}

#[async_trait]
impl PaymentStore for MemoryStore {
    async fn insert_payment(&self, payment: &Payment) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        if !s.orders.contains_key(&payment.order_id) {
            return Err(StorageError::MissingReference(Reference::Order));
        }
        if s.payments.contains_key(&payment.id) {
            return Err(StorageError::Duplicate(UniqueRule::RecordId));
        }
        check_payment_reference(&s, payment)?;
        s.payments.insert(payment.id, payment.clone());
        Ok(())
    }

    async fn update_payment(
        &self,
        payment: &Payment,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        if !s.payments.contains_key(&payment.id) {
            return Err(StorageError::NotFound);
        }
        check_payment_reference(&s, payment)?;
        s.payments.insert(payment.id, payment.clone());
        s.tell(record);
        Ok(())
    }

    async fn payment(&self, id: PaymentId) -> Result<Option<Payment>, StorageError> {
        Ok(self.lock()?.payments.get(&id).cloned())
    }

    async fn payment_by_reference(
        &self,
        provider: &str,
        reference: &str,
    ) -> Result<Option<Payment>, StorageError> {
        Ok(self
            .lock()?
            .payments
            .values()
            .find(|p| p.provider == provider && p.provider_reference.as_deref() == Some(reference))
            .cloned())
    }

    async fn payments_of_order(&self, order_id: OrderId) -> Result<Vec<Payment>, StorageError> {
        let s = self.lock()?;
        let mut list: Vec<Payment> = s
            .payments
            .values()
            .filter(|p| p.order_id == order_id)
            .cloned()
            .collect();
        list.sort_by_key(|p| (p.created_at, p.id));
        Ok(list)
    }

    async fn record_provider_event(
        &self,
        provider: &str,
        event_id: &str,
    ) -> Result<bool, StorageError> {
        Ok(self
            .lock()?
            .provider_events
            .insert((provider.to_string(), event_id.to_string())))
    }

    async fn forget_provider_event(
        &self,
        provider: &str,
        event_id: &str,
    ) -> Result<(), StorageError> {
        self.lock()?
            .provider_events
            .remove(&(provider.to_string(), event_id.to_string()));
        Ok(())
    }
}
