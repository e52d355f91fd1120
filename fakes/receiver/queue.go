package receiver

import "sync"

// eventQueue is the FIFO between the handlers and the workers. With a limit
// it refuses beyond it (the compliant receiver's 503); without one it grows
// as needed, as a slow worker's backlog does in a broker.
type eventQueue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	items  []Event
	limit  int // 0: unbounded
	closed bool
}

func newEventQueue(limit int) *eventQueue {
	q := &eventQueue{limit: limit}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// push appends ev without blocking; false means full or closed.
func (q *eventQueue) push(ev Event) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || (q.limit > 0 && len(q.items) >= q.limit) {
		return false
	}
	q.items = append(q.items, ev)
	q.cond.Signal()
	return true
}

// pop blocks until an event is queued; false means closed and drained.
func (q *eventQueue) pop() (Event, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.items) == 0 && !q.closed {
		q.cond.Wait()
	}
	if len(q.items) == 0 {
		return Event{}, false
	}
	ev := q.items[0]
	q.items[0] = Event{} // let the body go once processed
	q.items = q.items[1:]
	return ev, true
}

// close refuses later pushes; pop still drains what is queued.
func (q *eventQueue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	q.cond.Broadcast()
}
