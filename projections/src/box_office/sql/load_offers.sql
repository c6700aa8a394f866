-- Which of the holds a batch ends are waiting-list offers.
SELECT hold_id, show_id FROM report_offer_holds WHERE hold_id = ANY($1)
